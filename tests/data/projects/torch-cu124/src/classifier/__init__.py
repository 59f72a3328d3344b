"""A torch classifier used to test CUDA plans; never run."""
