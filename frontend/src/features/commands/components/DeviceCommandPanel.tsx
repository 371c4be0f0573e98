import { ErrorMessage } from "@/components/Feedback";
import { QUICK_COMMANDS } from "../catalog";
import { useSendCommand } from "../api/commands";
import { CommandHistory } from "./CommandHistory";
import { CommandSendForm } from "./CommandSendForm";

/** Seed 000's command panel: quick commands, a typed send form and the live history. */
export function DeviceCommandPanel({ deviceId, disabled }: { deviceId: string; disabled?: boolean }) {
  const quick = useSendCommand(deviceId);
  return (
    <section className="panel" aria-labelledby="commands-title">
      <h2 id="commands-title">Commands</h2>
      {disabled && <p className="muted">The device is disabled: commands are refused until it is enabled.</p>}
      <div className="row" role="group" aria-label="Quick commands">
        {QUICK_COMMANDS.map((type) => (
          <button key={type} type="button" disabled={quick.isPending}
            onClick={() => quick.mutate({ command_type: type, command_params: {} })}>
            {type}
          </button>
        ))}
      </div>
      <ErrorMessage error={quick.error} prefix="Not sent" />
      <details>
        <summary>Send a command with parameters</summary>
        <CommandSendForm deviceId={deviceId} />
      </details>
      <CommandHistory deviceId={deviceId} />
    </section>
  );
}
