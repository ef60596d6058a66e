#!/usr/bin/env bash
# padbench across MPI ranks against a local run of the same command (ctest label `mpi`):
#   1. eval on 3 ranks (more ranks than cores: --oversubscribe) equals a local eval, episode for episode;
#   2. a rank killed mid-run under --enable-recovery: its episodes run elsewhere, nothing lost or repeated;
#   3. a rank killed without it: mpirun ends the run, and --resume without MPI finishes it, equal again;
#      mpirun itself stopped (SIGTERM): --resume under mpirun finishes it;
#   4. experts and collect on 3 ranks equal a local run (collect: the same HDF5 file).
# Usage: mpi_test.sh PADBENCH SOURCE_DIR SCRATCH PYTHON
set -euo pipefail
padbench=$1 src=$2 scratch=$3 python=$4
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch"
mpi=(mpirun --oversubscribe --allow-run-as-root)
same="$python $src/tests/cli/same_outcomes.py"
run=(eval --policy expert --policy random --policy "gr1=$src/assets/checkpoints/gr1" --task reach --task drawer-open
     --task pick-place --episodes 4 --videos 1 --workers 1)

# The PID of rank $1 of the padbench eval now running under mpirun (not one of its workers).
rank_pid() {
  for pid in $(pgrep -f "padbench eval" || true); do
    tr '\0' '\n' </proc/"$pid"/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" || continue
    ppid=$(awk '{print $4}' /proc/"$pid"/stat 2>/dev/null) || continue
    [ "$(cat /proc/"$ppid"/comm 2>/dev/null)" = padbench ] && continue
    echo "$pid" && return
  done
}
# Kills rank $2 once $1/episodes.jsonl holds $3 episodes.
kill_rank_after() {
  until [ "$(cat "$1/episodes.jsonl" 2>/dev/null | wc -l)" -ge "$3" ]; do sleep 0.1; done
  pid=$(rank_pid "$2")
  echo "killing rank $2 (pid $pid) after $3 episodes"
  kill -9 "$pid"
}

echo "== 1. local and 3 ranks"
"$padbench" "${run[@]}" --out local >/dev/null 2>local.log
"${mpi[@]}" -n 3 "$padbench" "${run[@]}" --out ranks3 >/dev/null 2>ranks3.log
$same episodes ranks3 local
[ "$(ls ranks3/videos | wc -l)" = "$(ls local/videos | wc -l)" ] || { echo "FAIL: videos differ"; exit 1; }

echo "== 2. a rank killed, mpirun --enable-recovery: the run completes"
kill_rank_after recovered 1 6 &
"${mpi[@]}" --enable-recovery -n 3 "$padbench" "${run[@]}" --rank-timeout 3 --out recovered >/dev/null 2>recovered.log
wait
grep "rank 1 has been silent" recovered.log
$same episodes recovered local
"$python" -c "import json,sys; n=json.load(open('recovered/results.json'))['metadata']['episodes_requeued']; \
sys.exit(0 if n >= 1 else 'FAIL: no episode was requeued')"

echo "== 3. a rank killed, plain mpirun: the run ends, --resume without MPI finishes it"
kill_rank_after resumed 2 6 &
if "${mpi[@]}" -n 3 "$padbench" "${run[@]}" --out resumed >/dev/null 2>resumed.log; then
  echo "FAIL: mpirun went on after a rank died"; exit 1
fi
wait
echo "mpirun ended with $(wc -l <resumed/episodes.jsonl) episodes saved"
"$padbench" "${run[@]}" --out resumed --resume >/dev/null 2>>resumed.log
$same episodes resumed local

echo "== 3b. mpirun itself stopped: --resume under mpirun finishes it"
"${mpi[@]}" -n 3 "$padbench" "${run[@]}" --out stopped >/dev/null 2>stopped.log &
launcher=$!
until [ "$(cat stopped/episodes.jsonl 2>/dev/null | wc -l)" -ge 6 ]; do sleep 0.1; done
kill -TERM "$launcher"
if wait "$launcher"; then echo "FAIL: a stopped mpirun exited 0"; exit 1; fi
echo "mpirun stopped with $(wc -l <stopped/episodes.jsonl) episodes saved"
"${mpi[@]}" -n 2 "$padbench" "${run[@]}" --out stopped --resume >/dev/null 2>>stopped.log
$same episodes stopped local

echo "== 4. experts and collect"
"$padbench" experts --suite default --episodes 6 --workers 1 --json 2>/dev/null | grep -v '"seconds"' >experts_local.json
"${mpi[@]}" -n 3 "$padbench" experts --suite default --episodes 6 --workers 1 --json 2>/dev/null | grep -v '"seconds"' >experts_ranks3.json
diff experts_local.json experts_ranks3.json && echo "ok: experts identical"
collect=(collect --task pick-place --episodes 4 --noise 1.0 --seed 5)  # half the attempts fail: order matters
"$padbench" "${collect[@]}" --out local.hdf5 >/dev/null 2>&1
"${mpi[@]}" -n 3 "$padbench" "${collect[@]}" --out ranks3.hdf5 >/dev/null 2>&1
if "$python" -c "import h5py" 2>/dev/null; then
  $same dataset ranks3.hdf5 local.hdf5
else
  cmp ranks3.hdf5 local.hdf5 && echo "ok: collected files identical byte for byte"
fi
