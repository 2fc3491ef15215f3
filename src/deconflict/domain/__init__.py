"""The domain core: pure Python + numpy/shapely/pyproj/S2. No web, no SQL, no globals."""
