// Prints the local broker's cluster, controller quorum and finalized feature levels as one
// JSON object. aiokafka has no DescribeMetadataQuorum call, so `relay kafka status` runs this
// against the broker's own kafka-clients jar. Compiled once into the broker cache.
import java.util.Map;
import java.util.Properties;
import java.util.StringJoiner;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.QuorumInfo;
import org.apache.kafka.common.utils.internals.AppInfoParser;

public final class QuorumStatus {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "8000");
        try (Admin admin = Admin.create(props)) {
            QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get();
            FeatureMetadata features = admin.describeFeatures().featureMetadata().get();
            StringJoiner voters = new StringJoiner(",", "[", "]");
            for (QuorumInfo.ReplicaState voter : quorum.voters()) {
                voters.add("{\"id\":" + voter.replicaId() + ",\"log_end_offset\":" + voter.logEndOffset() + "}");
            }
            StringJoiner levels = new StringJoiner(",", "{", "}");
            features.finalizedFeatures().forEach((name, range) ->
                levels.add("\"" + name + "\":" + range.maxVersionLevel()));
            String clusterId = admin.describeCluster().clusterId().get();
            System.out.println("{\"version\":\"" + AppInfoParser.getVersion() + "\",\"cluster_id\":\"" + clusterId + "\",\"leader_id\":" + quorum.leaderId()
                + ",\"leader_epoch\":" + quorum.leaderEpoch() + ",\"high_watermark\":" + quorum.highWatermark()
                + ",\"voters\":" + voters + ",\"finalized_features\":" + levels + "}");
        }
    }
}
