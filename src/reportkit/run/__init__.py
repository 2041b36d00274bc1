"""Layer 7, run: the batch (Papermill, local pool or Dask), warm kernels, HTML export, manifest.

``docs/architecture.md``, "Package map" and "Batch flow".
"""
