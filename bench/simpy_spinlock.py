# The bench's spinlock model in SimPy 2 (Debian's python3-simpy): CPUs contending on one lock,
# each loop taking it (a Resource of capacity 1, FIFO), holding it 10 ns, releasing it, then 5 ns
# of other work, as bench/models/spin_model.ts does in mmsim. Prints one JSON line: iterations,
# process resumptions (yields), and the best wall time of three runs in seconds.
import json
import sys
import time

from SimPy.Simulation import Process, Resource, Simulation, hold, release, request

CPUS = int(sys.argv[1]) if len(sys.argv) > 1 else 4
ITERATIONS = int(sys.argv[2]) if len(sys.argv) > 2 else 20000


class Worker(Process):
    def run(self, lock, n, counter):
        for _ in range(n):
            yield request, self, lock
            yield hold, self, 10
            counter[0] += 1
            yield release, self, lock
            yield hold, self, 5


def model():
    sim = Simulation()
    sim.initialize()
    lock = Resource(capacity=1, sim=sim)
    counter = [0]
    for cpu in range(CPUS):
        w = Worker(name="w%d" % cpu, sim=sim)
        sim.activate(w, w.run(lock, ITERATIONS, counter))
    sim.simulate(until=1e18)
    assert counter[0] == CPUS * ITERATIONS
    return counter[0]


best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    n = model()
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"iterations": n, "yields": 4 * n, "seconds": best}))
