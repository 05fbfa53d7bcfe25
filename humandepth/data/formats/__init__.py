"""Readers of dataset formats other than ``humandepth`` (the HDF5 shards of :mod:`humandepth.data.store`)."""
