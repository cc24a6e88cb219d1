"""Show: view models built from findings and scores (view/), and the files written (outputs/)."""
