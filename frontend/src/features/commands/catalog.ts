// The typed command catalog (chalicelib/commands/params.py): fields, bounds and the
// messages the form shows before the API would refuse the same input.

export type ParamKind = "integer" | "text" | "url" | "json";

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  required?: boolean;
  min?: number;
  max?: number;
  maxLength?: number;
  pattern?: RegExp;
  patternMessage?: string;
  placeholder?: string;
}

export const COMMAND_CATALOG: Record<string, ParamSpec[]> = {
  ping: [],
  reboot: [{ name: "delay_s", kind: "integer", min: 0, max: 3600, placeholder: "0" }],
  capture_image: [{ name: "count", kind: "integer", min: 1, max: 20, placeholder: "1" }],
  send_image: [{ name: "image_name", kind: "text", required: true, maxLength: 200 }],
  set_wake_schedule: [
    { name: "cron", kind: "text", required: true, maxLength: 200, placeholder: "0 */6 * * *" },
    { name: "timezone", kind: "text", maxLength: 64, placeholder: "UTC" },
  ],
  update_config: [{ name: "config", kind: "json", required: true, placeholder: '{"interval_s": 60}' }],
  update_firmware: [
    { name: "url", kind: "url", required: true, placeholder: "https://fw.example.com/2.1.bin" },
    { name: "version", kind: "text", required: true, maxLength: 64, pattern: /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/,
      patternMessage: "letters, digits and . _ + - only", placeholder: "2.1.0" },
    { name: "sha256", kind: "text", required: true, pattern: /^[0-9a-fA-F]{64}$/,
      patternMessage: "64 hexadecimal characters" },
  ],
};

/** Quick commands: the types that need no parameters. */
export const QUICK_COMMANDS = ["ping", "reboot", "capture_image"] as const;

export const COMMAND_TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/** Validate and convert form values; returns the params or the message per field. */
export function buildParams(specs: ParamSpec[], values: Record<string, string>):
  { params: Record<string, unknown>; errors: Record<string, string> } {
  const params: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const spec of specs) {
    const raw = (values[spec.name] ?? "").trim();
    if (!raw) {
      if (spec.required) errors[spec.name] = "required";
      continue;
    }
    if (spec.kind === "integer") {
      const n = Number(raw);
      if (!Number.isInteger(n)) errors[spec.name] = "must be a whole number";
      else if (spec.min !== undefined && n < spec.min) errors[spec.name] = `must be at least ${spec.min}`;
      else if (spec.max !== undefined && n > spec.max) errors[spec.name] = `must be at most ${spec.max}`;
      else params[spec.name] = n;
    } else if (spec.kind === "json") {
      try {
        const value: unknown = JSON.parse(raw);
        if (!value || typeof value !== "object" || Array.isArray(value)) errors[spec.name] = "must be a JSON object";
        else if (Object.keys(value).length === 0) errors[spec.name] = "must have at least one key";
        else params[spec.name] = value;
      } catch {
        errors[spec.name] = "is not valid JSON";
      }
    } else if (spec.kind === "url") {
      try {
        const url = new URL(raw);
        if (url.protocol !== "http:" && url.protocol !== "https:") errors[spec.name] = "must be an http(s) URL";
        else params[spec.name] = raw;
      } catch {
        errors[spec.name] = "must be a URL";
      }
    } else if (spec.maxLength !== undefined && raw.length > spec.maxLength) {
      errors[spec.name] = `must be at most ${spec.maxLength} characters`;
    } else if (spec.pattern && !spec.pattern.test(raw)) {
      errors[spec.name] = spec.patternMessage ?? "has the wrong format";
    } else {
      params[spec.name] = raw;
    }
  }
  return { params, errors };
}
