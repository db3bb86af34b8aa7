"""What every role shares: the MQTT link and its outbox, durable files, running as a service, the one step
loop, Spanish dates and button debouncing."""
