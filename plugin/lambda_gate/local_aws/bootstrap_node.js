// Run one Lambda handler invocation in this (fresh) Node.js process, for the local AWS.
//
// Started as `node bootstrap_node.js INVOCATION_JSON` by lambda_gate.local_aws.runtimes.
// Loads the handler as Lambda's Node.js runtime does (`dir/module.function`, CommonJS or
// ES module), calls it with the event and a context object (async or callback style),
// and writes the outcome as JSON to the result file: {"payload": "<json>"} or
// {"error": {...}} shaped as Lambda's runtime errors. Console output is the log.
"use strict";

const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

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

function makeContext(spec) {
  return {
    functionName: spec.function_name,
    functionVersion: spec.function_version,
    invokedFunctionArn: spec.invoked_function_arn,
    memoryLimitInMB: String(spec.memory_limit_in_mb),
    awsRequestId: spec.request_id,
    logGroupName: spec.log_group_name,
    logStreamName: spec.log_stream_name,
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

async function run(spec) {
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
    if (err instanceof SyntaxError) {
      return { error: errorOf("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`) };
    }
    return { error: errorOf("Runtime.ImportModuleError",
      `${err && err.name ? err.name : "Error"}: ${err && err.message ? err.message : err}`) };
  }
  let fn = mod ? mod[functionName] : undefined;
  if (typeof fn !== "function" && mod && mod.default) fn = mod.default[functionName];
  if (typeof fn !== "function") {
    return { error: errorOf("Runtime.HandlerNotFound",
      `${moduleName}.${functionName} is undefined or not exported`) };
  }
  const event = JSON.parse(fs.readFileSync(spec.event_path, "utf8"));
  let result;
  try {
    result = await callHandler(fn, event, makeContext(spec));
  } catch (err) {
    return { error: userError(err) };
  }
  const payload = JSON.stringify(result === undefined ? null : result);
  return { payload };
}

async function main() {
  const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  process.chdir(spec.task_root);
  const outcome = await run(spec);
  const tmp = spec.result_path + ".tmp";
  fs.writeFileSync(tmp, JSON.stringify(outcome));
  fs.renameSync(tmp, spec.result_path);
  process.exit(0);
}

main();
