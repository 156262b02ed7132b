"""Data shipped inside the package as ``photofinder.resources`` (pyproject.toml maps this
top-level folder there): SVG icons (``icons/``) and the demo photos (``demo/``)."""
