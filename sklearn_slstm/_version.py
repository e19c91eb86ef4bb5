"""The version of sklearn_slstm, apart so that no module imports the package."""

__version__ = "0.1.0"
