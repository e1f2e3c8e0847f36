// bench/events.sh's client: N subscribers of GET /api/events?topics=status on one process, a driver that changes a
// tool's status every interval through the API, and the time from each change to its event at every subscriber.
// Usage: node events-client.mjs BASE TOKEN TOOL SUBSCRIBERS SECONDS INTERVAL_MS SERVER_PID READY_FILE
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';

const [base, token, tool, subscribersText, secondsText, intervalText, serverPid, readyFile] = process.argv.slice(2);
const subscribers = Number(subscribersText), seconds = Number(secondsText), interval = Number(intervalText);
const url = new URL(base);
const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${serverPid}/status`, 'utf8'))[1]);
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

const sentAt = [];        // when change k was sent
const latencies = [];     // ms from a change's request to its event, per subscriber and change
let connected = 0, ended = 0;

function subscribe() {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: url.hostname, port: url.port, path: '/api/events?topics=status', headers, agent: false }, response => {
      if (response.statusCode !== 200) { reject(new Error(`stream: ${response.statusCode}`)); return; }
      connected++;
      resolve();
      let buffer = '', seen = 0;
      response.setEncoding('utf8');
      response.on('data', chunk => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.includes('event: status.changed')) continue;
          const data = JSON.parse(frame.slice(frame.indexOf('data: ') + 6));
          if (data.id !== tool) continue;
          const k = seen++;
          if (sentAt[k] !== undefined) latencies.push(performance.now() - sentAt[k]);
        }
      });
      response.on('end', () => ended++);
    });
    request.on('error', reject);
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function change(status) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ status });
    const request = http.request({ host: url.hostname, port: url.port, path: `/api/tools/${tool}`, method: 'PATCH', agent,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, response => {
      response.resume();
      response.on('end', () => response.statusCode === 200 ? resolve() : reject(new Error(`PATCH: ${response.statusCode}`)));
    });
    request.on('error', reject);
    request.end(body);
  });
}

await sleep(1000);
const before = rssKiB();
for (let i = 0; i < subscribers; i += 50) await Promise.all(Array.from({ length: Math.min(50, subscribers - i) }, subscribe));
await sleep(3000);
const after = rssKiB();
writeFileSync(readyFile, 'ready');

const started = performance.now();
const statuses = ['Degraded', 'Healthy'];
for (let k = 0; performance.now() - started < seconds * 1000; k++) {
  const next = started + k * interval;
  if (next > performance.now()) await sleep(next - performance.now());
  sentAt[k] = performance.now();
  await change(statuses[k % 2]);
}
await sleep(2000);
const changes = sentAt.length;
latencies.sort((a, b) => a - b);
const at = p => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(JSON.stringify({
  subscribers: connected, changes, expected: changes * subscribers, received: latencies.length, ended,
  p50_ms: +at(0.5).toFixed(1), p99_ms: +at(0.99).toFixed(1), max_ms: +latencies.at(-1).toFixed(1),
  rss_before_kib: before, rss_after_kib: after, kib_per_subscriber: +((after - before) / subscribers).toFixed(1),
}));
process.exit(0);
