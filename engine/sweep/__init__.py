"""``rackrisk sweep``: a grid of scenario overrides x seeds run as Dask tasks, combined on a ``scenario`` dim.

* ``grid.py``   reads GRID.toml into points (overlay tables on a base scenario, a seed each);
* ``task.py``   runs one point (what a Dask worker executes; also used to run points one by one);
* ``combine.py`` stacks the per-point Datasets into one along ``scenario`` and writes it.
"""
