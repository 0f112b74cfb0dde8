"""cxlog: the in-store moment logger. The domain, importable without Streamlit."""

__version__ = "0.1.0"
