"""HyperLab's JupyterLab extension, as a Python package carrying the prebuilt labextension."""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@hyperlab/jupyterlab"}]
