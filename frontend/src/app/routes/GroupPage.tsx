import { useParams } from "react-router-dom";
import { TargetCommandPanel } from "@/features/commands/components/TargetCommandPanel";
import { GroupDetail } from "@/features/groups/routes/GroupDetailPage";

/** The group page composes two features: the group's members and a command to all of them. */
export function GroupPage() {
  const { groupId = "" } = useParams();
  return (
    <main>
      <GroupDetail groupId={groupId} />
      <TargetCommandPanel target="groups" targetId={groupId} />
    </main>
  );
}

export default GroupPage;
