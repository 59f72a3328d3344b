"""What the image will be: the BuildPlan, its planner, the base catalog, Dockerfile rendering."""
