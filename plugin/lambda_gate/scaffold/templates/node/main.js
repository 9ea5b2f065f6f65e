// @FUNCTION@: an API Gateway (HTTP API) proxy handler; replace it with your own.
// babel compiles src/ to dist/ (`npm run build`); Lambda runs dist/main.handler.

export const handler = async (event) => {
  const path = event.rawPath || "/";
  if (path === "/health") {
    return json(200, { status: "ok", version: process.env.AWS_LAMBDA_FUNCTION_VERSION });
  }
  return json(404, { error: `no route for ${path}` });
};

const json = (statusCode, body) => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
