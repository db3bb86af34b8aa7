"""A morning of a whole site with faults, and what it simulates: cables, paper rolls, the hub's card, the Pis."""
