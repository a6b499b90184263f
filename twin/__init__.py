"""Digital twins: message links, edge twins, the core-cloud twin and its pure solvers."""
