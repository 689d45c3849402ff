"""Calibration: targets as data, fitting free parameters, validating the fit, Morris screening."""
