import { useState } from "react";
import { InlineInput } from "../../../ui/InlineInput";
import { useCommands } from "../context";

/**
 * A node's label on the canvas; a double-click renames it in place. The field is `nodrag
 * nopan` so that selecting its text neither drags the node nor zooms the canvas.
 */
export function NodeTitle({ nodeId, label, readOnly }: { nodeId: string; label: string; readOnly?: boolean }) {
  const commands = useCommands();
  const [editing, setEditing] = useState(false);

  if (editing) {
    return (
      <InlineInput
        initial={label}
        label="Node name"
        className="nodrag nopan nowheel -mx-1.5 h-6 w-[calc(100%+0.75rem)] text-[13px] font-semibold"
        onDone={(next) => {
          setEditing(false);
          if (next) void commands.relabelNode(nodeId, next);
        }}
      />
    );
  }
  return (
    <p
      className="nopan truncate text-[13px] font-semibold text-slate-900"
      onDoubleClick={readOnly ? undefined : () => setEditing(true)}
      title={readOnly ? undefined : "Double-click to rename"}
    >
      {label}
    </p>
  );
}
