// Fixtures run two at a time: every fixture has hosts, directories and databases of its own, so while one waits
// (bcrypt, a peer process, a browser, the disk) the other computes. Tests inside a fixture still run one by one.
// Marked [NonParallelizable], and so run alone: fixtures reading process-wide state (the meters) or timing
// themselves, the browser fixtures (a Chromium each) and the ones that start whole builds or servers.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(2)]
