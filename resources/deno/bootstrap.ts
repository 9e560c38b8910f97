// Portico's Deno bootstrap (embedded into porticod; written out next to the daemon's
// state when a deno project starts). Run as:
//   deno run --allow-net --allow-env --allow-read=<sourceDir> bootstrap.ts <absolute entry>
// Contract: listen on Deno.env PORT at HOST (127.0.0.1). Two styles of entry work:
//  1. `export default (req, ctx) => Response` (or an object with `fetch(req, ctx)`), as the
//     original daemon's projects do: the bootstrap serves it with Deno.serve and passes
//     ctx.env = the manifest's env (PORTICO_ENV, a JSON object) and ctx.remoteAddr.
//  2. Anything else: importing the entry runs it, and it serves itself on PORT.

type Ctx = { env: Record<string, string>; remoteAddr: Deno.NetAddr; project: string };
type Handler = (req: Request, ctx: Ctx) => Response | Promise<Response>;

const entry = Deno.args[0];
if (!entry) {
  console.error("portico bootstrap: usage: bootstrap.ts <absolute path of the entry>");
  Deno.exit(64);
}
const port = Number(Deno.env.get("PORT"));
const hostname = Deno.env.get("HOST") ?? "127.0.0.1";
const project = Deno.env.get("PORTICO_PROJECT") ?? "";
let env: Record<string, string> = {};
try {
  env = JSON.parse(Deno.env.get("PORTICO_ENV") ?? "{}");
} catch (e) {
  console.error(`portico bootstrap: PORTICO_ENV is not JSON: ${e}`);
}

// Absolute path -> file URL, each segment percent-encoded.
const url = "file://" + entry.split("/").map(encodeURIComponent).join("/");
const mod = await import(url);

const def = mod.default;
let handler: Handler | null = null;
if (typeof def === "function") {
  handler = def as Handler;
} else if (def && typeof def === "object" && typeof def.fetch === "function") {
  handler = (req, ctx) => def.fetch(req, ctx);
}

if (handler) {
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error("portico bootstrap: PORT is not set to a valid port");
    Deno.exit(2);
  }
  const h = handler;
  Deno.serve(
    {
      port,
      hostname,
      onListen: (addr) => console.log(`portico bootstrap: serving ${entry} on ${addr.hostname}:${addr.port}`),
      onError: (err) => {
        console.error(`portico bootstrap: handler error: ${err instanceof Error ? err.stack : err}`);
        return new Response(JSON.stringify({ error: "the handler threw" }), {
          status: 500,
          headers: { "content-type": "application/json" },
        });
      },
    },
    (req, info) => h(req, { env: { ...env }, remoteAddr: info.remoteAddr as Deno.NetAddr, project }),
  );
} else {
  console.log(`portico bootstrap: ${entry} has no default handler; it serves itself on PORT ${port}`);
}
