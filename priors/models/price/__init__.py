"""The rental-price model's parts (``priors.models.price_dynamics`` is its ``PriorModel`` interface).

Import order, no cycle: config -> data -> draws -> noise, drift, panel -> graph, forecast, plots.
PyMC and PyTensor are imported inside the functions that build the graph (graph, panel.panel_terms,
drift.increments_loglik), so the data and forecast parts run on numpy alone.
"""
