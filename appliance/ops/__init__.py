"""Operations: installing a role on a Pi, the broker's users and ACL, and the wiring tables and diagrams."""
