// Fixtures run two at a time: every fixture has hosts, directories and databases of its own, so while one waits
// (bcrypt, a peer process, a browser, the disk) the other computes. Tests inside a fixture still run one by one.
// Marked [NonParallelizable], and so run alone: fixtures reading process-wide state (the meters) or timing
// themselves, and the ones that start whole builds or servers. The browser fixtures share one Chromium
// (Browser/SharedChromium.cs) and run beside the others, each test in a browser context of its own.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(2)]
