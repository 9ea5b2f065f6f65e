// A Node.js execution environment for the local AWS: init once, then invoke many times.
//
// Started by lambda_gate.local_aws.environments as `node bootstrap_node.js REQ_FD RES_FD`
// under the runtime's own Node.js major. Requests arrive as JSON lines on REQ_FD,
// answers leave as JSON lines on RES_FD; console output is the function's log. The
// first request is {"init": {...}}: the handler's module is loaded as Lambda's runtime
// loads it (`dir/module.function`, CommonJS or ES module); then each {"invoke": {...}}
// calls it with the event and a context object (async or callback style).
//
// Module resolution stops at the task root: no node_modules of the host above the
// package, no global folders, no NODE_PATH. Errors take the shapes Lambda's Node.js
// runtime gives them and are logged as it logs them, so they reach the log tail.
"use strict";

const fs = require("fs");
const path = require("path");
const Module = require("module");
const net = require("net");
const readline = require("readline");
const { pathToFileURL } = require("url");

const requestFd = Number(process.argv[2]);
const answerFd = Number(process.argv[3]);

function errorOf(errorType, message, trace) {
  return { errorType, errorMessage: message, trace: trace || [] };
}

function userError(err) {
  if (err instanceof Error) {
    const stack = typeof err.stack === "string" ? err.stack.split("\n") : [];
    return errorOf(err.name || "Error", err.message, stack);
  }
  return errorOf("Error", String(err), []);
}

function logError(requestId, label, error) {
  const shown = { errorType: error.errorType, errorMessage: error.errorMessage,
    stack: error.trace };
  process.stdout.write(`${new Date().toISOString()}\t${requestId}\tERROR\t${label} \t` +
    `${JSON.stringify(shown)}\n`);
}

function confine(taskRoot) {
  // CommonJS: search only node_modules inside the package.
  const inside = (dir) => dir === taskRoot || dir.startsWith(taskRoot + path.sep);
  const original = Module._nodeModulePaths;
  Module._nodeModulePaths = function (from) {
    return original.call(this, from).filter((dir) => inside(path.dirname(dir)));
  };
  Module.globalPaths.length = 0;
  // ES modules: refuse a bare specifier that resolved outside the package.
  if (typeof Module.register === "function") {
    const hook = `
      export async function resolve(specifier, context, next) {
        const found = await next(specifier, context);
        const root = ${JSON.stringify(pathToFileURL(taskRoot).href + "/")};
        const bare = !/^(\\.|\\/|file:|node:|data:)/.test(specifier);
        if (bare && found.url.startsWith("file:") && !found.url.startsWith(root)) {
          const err = new Error("Cannot find package '" + specifier + "' imported from " +
            (context.parentURL || root));
          err.code = "ERR_MODULE_NOT_FOUND";
          throw err;
        }
        return found;
      }`;
    Module.register("data:text/javascript," + encodeURIComponent(hook));
  }
}

function moduleFile(taskRoot, moduleName) {
  const base = path.resolve(taskRoot, moduleName);
  for (const ext of [".js", ".mjs", ".cjs"]) {
    if (fs.existsSync(base + ext)) return base + ext;
  }
  return null;
}

async function loadModule(file) {
  if (file.endsWith(".mjs")) return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (err) {
    if (err && err.code === "ERR_REQUIRE_ESM") return import(pathToFileURL(file).href);
    throw err;
  }
}

// The handler function, or the error Lambda's runtime fails the init with.
async function loadHandler(spec) {
  const handler = spec.handler;
  const dot = handler.lastIndexOf(".");
  if (dot < 1) {
    return { error: errorOf("Runtime.MalformedHandlerName", `Bad handler ${handler}`) };
  }
  const moduleName = handler.slice(0, dot);
  const functionName = handler.slice(dot + 1);
  const file = moduleFile(spec.task_root, moduleName);
  if (file === null) {
    return { error: errorOf("Runtime.ImportModuleError",
      `Error: Cannot find module '${moduleName}'`) };
  }
  let mod;
  try {
    mod = await loadModule(file);
  } catch (err) {
    const trace = err && typeof err.stack === "string" ? err.stack.split("\n") : [];
    if (err instanceof SyntaxError) {
      return { error: errorOf("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`,
        trace) };
    }
    return { error: errorOf("Runtime.ImportModuleError",
      `${err && err.name ? err.name : "Error"}: ${err && err.message ? err.message : err}`,
      trace) };
  }
  let fn = mod ? mod[functionName] : undefined;
  if (typeof fn !== "function" && mod && mod.default) fn = mod.default[functionName];
  if (typeof fn !== "function") {
    return { error: errorOf("Runtime.HandlerNotFound",
      `${moduleName}.${functionName} is undefined or not exported`) };
  }
  return { fn };
}

function makeContext(init, spec) {
  return {
    functionName: init.function_name,
    functionVersion: init.function_version,
    invokedFunctionArn: spec.invoked_function_arn,
    memoryLimitInMB: String(init.memory_limit_in_mb),
    awsRequestId: spec.request_id,
    logGroupName: init.log_group_name,
    logStreamName: init.log_stream_name,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis() {
      return Math.max(Math.floor(spec.deadline_ms - Date.now()), 0);
    },
  };
}

function callHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (err, value) => (err ? reject(err) : resolve(value));
    let returned;
    try {
      returned = fn(event, context, callback);
    } catch (err) {
      reject(err);
      return;
    }
    if (returned && typeof returned.then === "function") {
      returned.then(resolve, reject);
    } else if (fn.length < 3) {
      // Neither async nor callback style: Lambda answers null.
      resolve(null);
    }
  });
}

function send(message) {
  let data = Buffer.from(JSON.stringify(message) + "\n", "utf8");
  while (data.length > 0) {
    const written = fs.writeSync(answerFd, data);
    data = data.subarray(written);
  }
}

async function invoke(fn, init, spec) {
  const event = JSON.parse(spec.event);
  let result;
  try {
    result = await callHandler(fn, event, makeContext(init, spec));
  } catch (err) {
    const error = userError(err);
    logError(spec.request_id, "Invoke Error", error);
    return { error };
  }
  return { payload: JSON.stringify(result === undefined ? null : result) };
}

async function main() {
  // A socket, not fs.createReadStream: a blocking read on a pipe in libuv's thread
  // pool would keep process.exit() from ever returning.
  const requests = new net.Socket({ fd: requestFd, readable: true, writable: false });
  const lines = readline.createInterface({ input: requests, crlfDelay: Infinity });
  let init = null;
  let fn = null;
  for await (const line of lines) {
    const message = JSON.parse(line);
    if (init === null) {
      init = message.init;
      process.chdir(init.task_root);
      confine(fs.realpathSync(init.task_root));
      const loaded = await loadHandler(init);
      if (loaded.error) {
        logError("undefined", "Uncaught Exception", loaded.error);
        send({ init_error: loaded.error });
        process.exit(1);
      }
      fn = loaded.fn;
      send({ ready: true });
      continue;
    }
    send(await invoke(fn, init, message.invoke));
  }
  process.exit(0);
}

main();
