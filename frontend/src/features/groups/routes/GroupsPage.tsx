import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { Dialog } from "@/components/Dialog";
import { Field } from "@/components/Field";
import { ErrorMessage, Loading } from "@/components/Feedback";
import { Pager, usePager } from "@/components/Pager";
import { ApiError } from "@/lib/api-client";
import { formatTime } from "@/lib/format";
import { useCreateGroup, useGroups } from "../api/groups";

function CreateGroupForm({ onClose }: { onClose: () => void }) {
  const create = useCreateGroup();
  const [groupId, setGroupId] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const serverField = create.error instanceof ApiError ? create.error.field : undefined;
  function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return setError("required");
    setError(null);
    create.mutate({ group_id: groupId.trim() || null, name: name.trim() }, { onSuccess: onClose });
  }
  return (
    <form onSubmit={submit} className="stack" noValidate aria-label="New group">
      <Field label="Group id" hint="empty: one is generated" error={serverField === "group_id" ? create.error?.message : null}>
        {(a11y) => <input {...a11y} value={groupId} onChange={(e) => setGroupId(e.target.value)} />}
      </Field>
      <Field label="Name" error={error ?? (serverField === "name" ? create.error?.message : null)}>
        {(a11y) => <input {...a11y} value={name} onChange={(e) => setName(e.target.value)} />}
      </Field>
      {create.error && serverField !== "group_id" && serverField !== "name" && <ErrorMessage error={create.error} prefix="Not created" />}
      <div className="row">
        <button type="submit" disabled={create.isPending}>Create</button>
        <button type="button" className="secondary" onClick={onClose}>Cancel</button>
      </div>
    </form>
  );
}

export function GroupsPage() {
  const pager = usePager();
  const groups = useGroups(pager.token);
  const [creating, setCreating] = useState(false);
  return (
    <main>
      <div className="row spread">
        <h1>Groups</h1>
        <button type="button" onClick={() => setCreating(true)}>Create group</button>
      </div>
      <ErrorMessage error={groups.error} prefix="Groups unavailable" />
      {groups.isPending ? <Loading what="groups" /> : (
        <table aria-label="Groups">
          <thead><tr><th scope="col">Group</th><th scope="col">Members</th><th scope="col">Created</th></tr></thead>
          <tbody>
            {groups.data?.groups.length === 0 && <tr><td colSpan={3} className="muted">No groups yet.</td></tr>}
            {groups.data?.groups.map((g) => (
              <tr key={g.group_id}>
                <td><Link to={`/groups/${encodeURIComponent(g.group_id)}`}>{g.name}</Link> <span className="muted small">{g.group_id}</span></td>
                <td>{g.member_count ?? 0}</td>
                <td>{formatTime(g.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager pager={pager} nextToken={groups.data?.next_token} />
      <Dialog title="Create group" open={creating} onClose={() => setCreating(false)}>
        <CreateGroupForm onClose={() => setCreating(false)} />
      </Dialog>
    </main>
  );
}

export default GroupsPage;
