"""Development tooling: the demo, a private Mosquitto for tests and benchmarks, ticket pictures. The product
never imports it; the tests and the demo do."""
