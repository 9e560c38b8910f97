// A Deno project in the original daemon's style: only a default-exported handler.
// Portico's bootstrap serves it on 127.0.0.1:$PORT; ctx.env carries the manifest's env.
export default (req: Request, ctx: { env: Record<string, string> }): Response => {
  const url = new URL(req.url);
  const who = ctx.env.GREETING ?? "hello";
  if (url.pathname.endsWith("/json")) {
    return Response.json({ message: `${who} from deno`, path: url.pathname });
  }
  return new Response(`${who} from deno\n`, { headers: { "content-type": "text/plain; charset=utf-8" } });
};
