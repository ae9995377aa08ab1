#!/bin/sh
# Kubo runs this once before its daemon starts (container-init.d): short
# IPNS caching so gateways follow the live playlist, and the API on all
# interfaces of the compose network (it is not published to the host).
# The tests run it too (tools/kubo_node.py), on the node they start.
set -e
ipfs config Addresses.API /ip4/0.0.0.0/tcp/5001
ipfs config Addresses.Gateway /ip4/0.0.0.0/tcp/8080
# IPNS over PubSub needs PubSub itself; the daemon flags that enabled
# both are deprecated since Kubo 0.33.
ipfs config --json Pubsub.Enabled true
ipfs config --json Ipns.UsePubsub true
ipfs config Ipns.MaxCacheTTL 10s
ipfs config --json Gateway.PublicGateways '{}'
