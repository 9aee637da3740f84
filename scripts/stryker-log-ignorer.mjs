// Stryker ignore-plugin for `npm run mutate`: a log line (console.*) tells operators what happened; a mutant of its
// text or fields tests the log format, not the edge's behaviour, so those statements are not mutated.
import { declareValuePlugin, PluginKind } from "@stryker-mutator/api/plugin";

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, "console-statements", {
    shouldIgnore(path) {
      // Stryker hands a Babel NodePath; its published type does not name `node`.
      const node = /** @type {{ node: any }} */ (/** @type {unknown} */ (path)).node;
      // A console call as a statement, or as an arrow's body (`.catch((error) => console.error(…))`).
      const call = node.type === "ExpressionStatement" ? node.expression : node;
      const callee = call.type === "CallExpression" ? call.callee : null;
      if (callee?.type === "MemberExpression" && callee.object.type === "Identifier" && callee.object.name === "console") {
        return "log lines are not behaviour";
      }
      return undefined;
    },
  }),
];
