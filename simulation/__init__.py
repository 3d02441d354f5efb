"""What-if simulation of a mined process (SimPy). Calibration and the engine land with issue 5."""

__all__: list[str] = []
