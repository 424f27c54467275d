"""Reading the raw inputs: files (gzip too), selection rounds, the default data and their
editions, the download of the national list.
"""
