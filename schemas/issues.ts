// Turns valibot issues into one message that names the failing field.
import * as v from "valibot";

export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = v.getDotPath(issue);
      // strictObject reports an unknown key as "Expected never": say what it is instead.
      if (issue.type === "strict_object" && issue.expected === "never") {
        const key = issue.path?.at(-1)?.key;
        return `unknown field "${path ?? String(key)}"`;
      }
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
