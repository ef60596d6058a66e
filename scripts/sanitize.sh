#!/usr/bin/env bash
# The sanitizer pass of the test command: builds padbench and the fast test binaries with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/, runs the sim, tasks and eval
# tests under them, then a mix of learned policies (Diffusion Policy, PAD, GR-1) in one worker
# process (the setting in which a heap corruption was once seen), once as is and once batched in
# real time. Any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${PADBENCH_JOBS:-$(nproc)}
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPADBENCH_SANITIZE=ON -DPADBENCH_BUILD_TESTS=ON \
  -DPADBENCH_BUILD_VIEWER=OFF >/dev/null
cmake --build build-asan -j "$jobs" --target padbench test_sim test_tasks test_eval
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j "${PADBENCH_TEST_JOBS:-2}" -R '^(sim|tasks|eval):')
rm -rf build-asan/mix
./build-asan/padbench eval --policy diffusion_policy=assets/checkpoints/diffusion_policy \
  --policy pad=assets/checkpoints/pad --policy gr1=assets/checkpoints/gr1 --task drawer-open --task push --task reach --episodes 3 --workers 1 \
  --seed 0 --out build-asan/mix > build-asan/mix.log
grep -q 'results: build-asan/mix/' build-asan/mix.log
# The same mix batched (ActBatch with padding rows) and in real time.
rm -rf build-asan/mix_batched
./build-asan/padbench eval --policy diffusion_policy=assets/checkpoints/diffusion_policy \
  --policy pad=assets/checkpoints/pad --policy gr1=assets/checkpoints/gr1 --task drawer-open --task push --task reach --episodes 3 --workers 1 \
  --seed 0 --batch-envs 2 --realtime --latency-ms 30 --out build-asan/mix_batched > build-asan/mix_batched.log
grep -q 'results: build-asan/mix_batched/' build-asan/mix_batched.log
echo "sanitizers: tests and the learned-policy mix ran clean"
