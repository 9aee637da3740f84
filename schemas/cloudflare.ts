// Cloudflare's API v4 at the custom hostname boundary (Cloudflare for SaaS): the custom hostname object (the SDK has
// already taken it out of the v4 envelope) of POST/GET/PATCH /zones/{zone_id}/custom_hostnames[/{id}], as the API
// reference describes them. Only the fields the control plane reads are named; Cloudflare adds fields over time, so
// unknown ones are dropped rather than refused, and documented-optional ones may be missing or null.
import * as v from "valibot";

const text = v.nullish(v.string());

export const CustomHostnameSchema = v.object({
  id: v.string("id must be a string"),
  hostname: v.string("hostname must be a string"),
  /** Activation status: pending, active, moved, blocked, … */
  status: v.nullish(v.string(), "pending"),
  /** Documented as an array of anything; in practice sentences such as "custom hostname does not CNAME to this zone." */
  verification_errors: v.nullish(v.array(v.unknown()), []),
  /** The TXT record that proves the customer owns the hostname. */
  ownership_verification: v.nullish(v.object({ type: text, name: text, value: text })),
  ssl: v.nullish(
    v.object({
      /** Certificate status: initializing, pending_validation, …, active, validation_timed_out, … */
      status: text,
      method: text,
      validation_records: v.nullish(v.array(v.object({ txt_name: text, txt_value: text })), []),
      validation_errors: v.nullish(v.array(v.object({ message: text })), []),
    }),
  ),
});

export type CustomHostname = v.InferOutput<typeof CustomHostnameSchema>;
