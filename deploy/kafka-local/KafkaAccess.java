// Creates SCRAM users and ACLs on a secured broker. aiokafka 0.14 has neither CreateAcls nor
// AlterUserScramCredentials, so `services.tooling.kafka_security` runs this against the
// broker's own kafka-clients jar. Compiled once into the broker cache.
//
// args[0]: a client properties file (bootstrap, SASL_SSL, the admin's credentials).
// stdin, one command per line, tab-separated (secrets never appear on a command line):
//   user   <name> <password>                                     SCRAM-SHA-512 credential
//   acl    <resource type> <pattern type> <resource name> <principal> <operation>   ALLOW
// Prints one JSON object: {"users": n, "acls": n}.
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

public final class KafkaAccess {
    private static final int ITERATIONS = 8192;

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) {
            props.load(in);
        }
        List<UserScramCredentialAlteration> users = new ArrayList<>();
        List<AclBinding> acls = new ArrayList<>();
        BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = stdin.readLine(); line != null; line = stdin.readLine()) {
            String[] f = line.split("\t");
            if (f[0].equals("user")) {
                ScramCredentialInfo info = new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, ITERATIONS);
                users.add(new UserScramCredentialUpsertion(f[1], info, f[2]));
            } else if (f[0].equals("acl")) {
                ResourcePattern resource = new ResourcePattern(
                    ResourceType.fromString(f[1]), f[3], PatternType.fromString(f[2]));
                AccessControlEntry entry = new AccessControlEntry(
                    f[4], "*", AclOperation.fromString(f[5]), AclPermissionType.ALLOW);
                acls.add(new AclBinding(resource, entry));
            } else if (!line.isBlank()) {
                throw new IllegalArgumentException("unknown command: " + f[0]);
            }
        }
        try (Admin admin = Admin.create(props)) {
            if (!users.isEmpty()) {
                admin.alterUserScramCredentials(users).all().get();
            }
            if (!acls.isEmpty()) {
                admin.createAcls(acls).all().get();
            }
        }
        System.out.println("{\"users\":" + users.size() + ",\"acls\":" + acls.size() + "}");
    }
}
