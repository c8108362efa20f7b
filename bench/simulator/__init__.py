"""A lightweight fleet of simulated speakers that speak the real protocol (see bench/README.md).

Each worker process drives a few hundred paho MQTT 5 clients from one selector loop
(paho's external-loop API: loop_read/loop_write/loop_misc), so 1,000 speakers need
a handful of processes and no thread per client.
"""
