#!/usr/bin/env bash
# Build Gervais et al.'s Bitcoin simulator (github.com/arthurgervais/Bitcoin-Simulator,
# commit dd866b5, written for ns-3.25 with MPI) against Debian's ns-3.37 packages, to run
# their own code beside forksim's `scenarios/references/gervais-2015.toml`.
#
#   sudo apt-get install libns3-dev rapidjson-dev g++
#   git clone https://github.com/arthurgervais/Bitcoin-Simulator && git -C Bitcoin-Simulator checkout dd866b5
#   scripts/gervais-ns3/build.sh Bitcoin-Simulator /tmp/gervais-sim
#   /tmp/gervais-sim/bitcoin-test --nodes=6000 --blockSize=8000000 --noBlocks=40
#
# `port-to-ns3.37.patch` changes three things and no part of their model:
# - ns-3.37's Pareto variable takes a scale, not a mean: scale = mean * (shape - 1) / shape,
#   the mean ns-3.25 converted it from (the per-link latency draw of their topology helper);
# - their `main` runs only with MPI (`NS3_MPI`, `MPI_TEST`); the patch runs it in one
#   process (system 0 of 1) with the same 16 pools and hash rates, and skips the MPI gather
#   of per-node statistics, which one process already holds;
# - every 600 simulated seconds it prints counters to stderr (`PROGRESS ...`): timeouts,
#   `getdata` answered and unanswered, blocks received new and again, re-requests.
set -euo pipefail
src="${1:?usage: build.sh BITCOIN-SIMULATOR-CHECKOUT OUT-DIR}"
out="${2:?usage: build.sh BITCOIN-SIMULATOR-CHECKOUT OUT-DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$out"
cp -r "$src/src" "$src/scratch" "$out/"
(cd "$out" && patch -p1 < "$here/port-to-ns3.37.patch")
# Their sources include rapidjson as "../../rapidjson/..." and their own headers as "ns3/...".
ln -sfn /usr/include/rapidjson "$out/src/rapidjson"
mkdir -p "$out/inc/ns3" "$out/obj"
for h in "$out"/src/applications/model/*.h "$out"/src/applications/helper/*.h \
  "$out"/src/internet/helper/*.h; do
  ln -sf "$h" "$out/inc/ns3/$(basename "$h")"
done
# -idirafter: ns-3's own "string.h" must not hide the C library's.
flags=(-O2 -std=c++17 -w -fpermissive -I"$out/inc" -idirafter /usr/include/ns3
  -I"$out/src/applications/model" -I"$out/src/internet/helper")
for f in model/bitcoin.cc model/bitcoin-node.cc model/bitcoin-miner.cc \
  model/bitcoin-simple-attacker.cc model/bitcoin-selfish-miner.cc \
  model/bitcoin-selfish-miner-trials.cc helper/bitcoin-miner-helper.cc \
  helper/bitcoin-node-helper.cc helper/bitcoin-topology-helper.cc; do
  g++ "${flags[@]}" -c "$out/src/applications/$f" -o "$out/obj/$(basename "$f" .cc).o"
done
g++ "${flags[@]}" -c "$out/src/internet/helper/ipv4-address-helper-custom.cc" \
  -o "$out/obj/ipv4-address-helper-custom.o"
g++ "${flags[@]}" -c "$out/scratch/bitcoin-test.cc" -o "$out/obj/bitcoin-test.o"
g++ -o "$out/bitcoin-test" "$out"/obj/*.o -lns3-core -lns3-network -lns3-internet \
  -lns3-point-to-point -lns3-applications -lns3-point-to-point-layout -lns3-bridge \
  -lns3-traffic-control -lns3-mobility -lns3-stats
echo "built $out/bitcoin-test"
