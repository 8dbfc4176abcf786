import { useEffect, useId, useState, type FormEvent } from "react";
import { useClient, useMutation, type CombinedError } from "urql";
import { describeError, errorCode } from "../../api/errors";
import { Button } from "../../ui/Button";
import { Dialog } from "../../ui/Dialog";
import { FieldShell, inputClass } from "../../ui/Field";
import { cx } from "../../ui/cx";
import { toast } from "../../ui/toasts";
import { CreateStackMutation, DeleteStackMutation, DescribeStackMutation, RenameStackMutation } from "./operations";

export function CreateStackDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (id: string) => void }) {
  const id = useId();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [{ fetching }, create] = useMutation(CreateStackMutation);

  useEffect(() => {
    if (open) {
      setName("");
      setDescription("");
      setError(null);
    }
  }, [open]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give your stack a name.");
      return;
    }
    const result = await create({ name: name.trim(), description: description.trim() || null });
    if (result.error || !result.data) {
      setError(result.error ? describeError(result.error) : "The server gave no answer.");
      return;
    }
    onCreated(result.data.createWorkflow.id);
  }

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Create a new stack"
      description="A stack answers questions from your documents. You'll design it on the canvas next."
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form={`${id}-form`} loading={fetching}>
            Create stack
          </Button>
        </>
      }
    >
      <form id={`${id}-form`} onSubmit={submit} className="space-y-4" noValidate>
        <FieldShell id={`${id}-name`} label="Name" required error={error ?? undefined}>
          <input
            id={`${id}-name`}
            className={inputClass}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="e.g. Product manual assistant"
            autoFocus
            maxLength={200}
            aria-invalid={error ? true : undefined}
          />
        </FieldShell>
        <FieldShell id={`${id}-description`} label="Description" hint="Optional: what it answers, for whom.">
          <textarea
            id={`${id}-description`}
            className={cx(inputClass, "min-h-20 resize-y")}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="Answers support questions from the X200 manual."
            maxLength={2000}
          />
        </FieldShell>
      </form>
    </Dialog>
  );
}

export interface EditableStack {
  id: string;
  name: string;
  description: string;
  version: number;
}

/**
 * A stack's name and description. Only what changed is sent: a rename, then the description,
 * each its own event in the stack's history. Each names the version it was made on (the one
 * the dialog opened with, then the rename's), so an edit made meanwhile elsewhere is not
 * overwritten: the server answers CONFLICT, the dialog says so and the list is read again.
 * `onSaved` runs once both are answered: the list must be read again then, as the refetch the
 * rename set off may have read it in between.
 */
const CHANGED_ELSEWHERE = "This stack was changed elsewhere since you opened it, so nothing more was saved. Close and edit it again to see the change.";

export function EditStackDialog({ stack, onClose, onSaved }: { stack: EditableStack | null; onClose: () => void; onSaved?: () => void }) {
  const id = useId();
  const client = useClient();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<{ field: "name" | "description"; message: string } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (stack) {
      setName(stack.name);
      setDescription(stack.description);
      setError(null);
    }
  }, [stack]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!stack) return;
    const nextName = name.trim();
    const nextDescription = description.trim();
    if (!nextName) {
      setError({ field: "name", message: "The name can't be empty." });
      return;
    }
    setSaving(true);
    setError(null);
    let expectedVersion = stack.version;
    const refused = (field: "name" | "description", error: CombinedError) => {
      if (errorCode(error) === "CONFLICT") {
        setError({ field, message: CHANGED_ELSEWHERE });
        onSaved?.(); // read the list again: reopening the dialog shows the other edit
      } else {
        setError({ field, message: describeError(error) });
      }
    };
    try {
      if (nextName !== stack.name) {
        const result = await client.mutation(RenameStackMutation, { id: stack.id, name: nextName, expectedVersion }).toPromise();
        if (result.error) return refused("name", result.error);
        expectedVersion = result.data?.renameWorkflow.version ?? expectedVersion + 1;
      }
      if (nextDescription !== stack.description) {
        const result = await client.mutation(DescribeStackMutation, { id: stack.id, description: nextDescription, expectedVersion }).toPromise();
        if (result.error) return refused("description", result.error);
      }
    } finally {
      setSaving(false);
    }
    toast.success("Stack saved");
    onSaved?.();
    onClose();
  }

  return (
    <Dialog
      open={!!stack}
      onClose={onClose}
      title="Edit stack"
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="primary" type="submit" form={`${id}-form`} loading={saving}>
            Save
          </Button>
        </>
      }
    >
      <form id={`${id}-form`} onSubmit={submit} className="space-y-4" noValidate>
        <FieldShell id={`${id}-name`} label="Name" required error={error?.field === "name" ? error.message : undefined}>
          <input
            id={`${id}-name`}
            className={inputClass}
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoFocus
            maxLength={200}
            aria-invalid={error?.field === "name" ? true : undefined}
          />
        </FieldShell>
        <FieldShell
          id={`${id}-description`}
          label="Description"
          hint="What it answers, for whom."
          error={error?.field === "description" ? error.message : undefined}
        >
          <textarea
            id={`${id}-description`}
            className={cx(inputClass, "min-h-24 resize-y")}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            placeholder="Answers support questions from the X200 manual."
            maxLength={2000}
            aria-invalid={error?.field === "description" ? true : undefined}
          />
        </FieldShell>
      </form>
    </Dialog>
  );
}

export function DeleteStackDialog({ stack, onClose }: { stack: { id: string; name: string } | null; onClose: () => void }) {
  const [{ fetching }, remove] = useMutation(DeleteStackMutation);

  async function confirm() {
    if (!stack) return;
    const result = await remove({ id: stack.id }, { additionalTypenames: ["Workflow"] });
    if (result.error) {
      toast.error(describeError(result.error, "delete the stack"));
      return;
    }
    toast.success(`Deleted “${stack.name}”`);
    onClose();
  }

  return (
    <Dialog
      open={!!stack}
      onClose={onClose}
      size="sm"
      title="Delete this stack?"
      description={
        <>
          <strong className="font-medium text-slate-700">{stack?.name}</strong>, its documents and its chats will no longer be available.
        </>
      }
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="danger" onClick={confirm} loading={fetching}>
            Delete stack
          </Button>
        </>
      }
    />
  );
}
