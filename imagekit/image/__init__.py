"""The OCI image format, once: digests, descriptors, manifests, config, layouts, docker-archives."""
