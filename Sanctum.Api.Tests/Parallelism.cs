// Fixtures run three at a time: every fixture has hosts, directories and databases of its own, and much of the run
// waits (on child processes, the browser, the disk, peers), so on 2 cores a third fixture fills the gaps the other
// two leave. Tests inside a fixture still run one by one.
// Marked [NonParallelizable], and so run alone: fixtures timing themselves (concurrency, the busy handler, the audit
// writer, live events). The meters are read per host (MetricsTests) and the crash-safety rounds wait for a write
// instead of timing one, so those two run beside the others. The browser fixtures share one Chromium
// (Browser/SharedChromium.cs) and run beside the others, each test in a browser context of its own.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
