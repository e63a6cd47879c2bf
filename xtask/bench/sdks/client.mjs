// twilio-node side of the peer comparison (run by run.sh; not part of cargo test or CI).
//
// Usage: node client.mjs BASE_URL N   (run with NODE_PATH or from a dir whose node_modules has twilio)
// One reused Twilio client, 200 warm-up fetches, then N timed sequential
// `client.api.v2010.accounts(SID).balance.fetch()` calls; prints one JSON line.
//
// How the SDK is pointed at the loopback server: every generated domain (here `client.api`,
// class ApiBase in lib/rest/ApiBase.js, which passes "https://api.twilio.com") is a
// lib/base/Domain.js Domain whose public `baseUrl` property (set in its constructor) is what
// Domain.absoluteUrl() prefixes to every request path, so assigning
// `client.api.baseUrl = BASE_URL` sends the real SDK request path (version, resource, auth,
// headers, JSON decoding) to the loopback server. BaseTwilio.getHostname() leaves the host alone
// when no edge/region is set, so TWILIO_EDGE/TWILIO_REGION are cleared. The HTTP client is the
// SDK's default RequestClient (axios). Its keep-alive https.Agent applies to https:// only; for
// this http:// URL axios uses Node's http.globalAgent, which keeps connections alive by default
// since Node 19 (run.sh checks the server saw one connection per run).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.SDK_NODE_DIR ?? process.cwd(), "noop.js"));
const twilio = require("twilio");
const { version } = require("twilio/package.json");

const SID = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN = "bench-token";
const WARM_UP = 200;

const baseUrl = process.argv[2].replace(/\/+$/, "");
const n = Number.parseInt(process.argv[3], 10);
delete process.env.TWILIO_EDGE;
delete process.env.TWILIO_REGION;

const client = twilio(SID, TOKEN);
client.api.baseUrl = baseUrl;
const balance = client.api.v2010.accounts(SID).balance;

async function one() {
  const b = await balance.fetch();
  if (b.currency !== "USD") throw new Error(`unexpected currency ${b.currency}`);
}

for (let i = 0; i < WARM_UP; i++) await one();
const started = process.hrtime.bigint();
for (let i = 0; i < n; i++) await one();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  JSON.stringify({
    client: `twilio-node ${version}`,
    fetches: n,
    seconds: Number(seconds.toFixed(6)),
    per_sec: Number((n / seconds).toFixed(1)),
  }),
);
