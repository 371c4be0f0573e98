import { Link, useParams } from "react-router-dom";
import { DeviceCertificatesPanel } from "@/features/certificates/components/DeviceCertificatesPanel";
import { DeviceCommandPanel } from "@/features/commands/components/DeviceCommandPanel";
import { DeviceSummary, useDeviceDisabled } from "@/features/devices/components/DeviceSummary";
import { DeviceJobs } from "@/features/jobs/components/DeviceJobs";
import { DeviceTwinPanel } from "@/features/twin/components/DeviceTwinPanel";

/** The device page composes five features: registry, commands, twin, jobs and certificates. */
export function DeviceDetailPage() {
  const { deviceId = "" } = useParams();
  const disabled = useDeviceDisabled(deviceId);
  return (
    <main>
      <p><Link to="/devices">← Devices</Link></p>
      <DeviceSummary deviceId={deviceId} />
      <div className="grid">
        <DeviceCommandPanel deviceId={deviceId} disabled={disabled} />
        <DeviceTwinPanel deviceId={deviceId} />
      </div>
      <DeviceJobs deviceId={deviceId} />
      <DeviceCertificatesPanel deviceId={deviceId} />
    </main>
  );
}

export default DeviceDetailPage;
