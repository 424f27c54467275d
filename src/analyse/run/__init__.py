"""Running jobs: Papermill execution and HTML export of a report, warm kernels, batches and the
monthly run.
"""
