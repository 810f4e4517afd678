// Replays a BI tool's queries through pgJDBC (the driver DataGrip, DBeaver
// and Metabase connect with), as the tool sends them: each statement over
// the extended protocol, every result read to its end with the column types
// the driver maps.
// usage: java -cp postgresql.jar JdbcReplay.java PORT FILE.sql...
// Statements in a file are separated by a line that ends with `;` followed
// by an empty line. Prints `ok N FILE` per statement answered and
// `error N FILE: MESSAGE` per one refused; exits 1 when any was refused.
import java.nio.file.*;
import java.sql.*;
import java.util.*;

public class JdbcReplay {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/stripe?sslmode=disable";
        int failed = 0;
        try (Connection conn = DriverManager.getConnection(url, "stripe", "")) {
            for (String file : Arrays.copyOfRange(args, 1, args.length)) {
                String name = Paths.get(file).getFileName().toString();
                int n = 0;
                for (String sql : statements(Files.readString(Path.of(file)))) {
                    n++;
                    try (Statement st = conn.createStatement()) {
                        if (st.execute(sql)) {
                            try (ResultSet rs = st.getResultSet()) {
                                int columns = rs.getMetaData().getColumnCount();
                                while (rs.next()) {
                                    for (int i = 1; i <= columns; i++) rs.getObject(i);
                                }
                            }
                        }
                        System.out.println("ok " + n + " " + name);
                    } catch (SQLException e) {
                        failed++;
                        String one = e.getMessage().replace('\n', ' ');
                        System.out.println("error " + n + " " + name + ": " + one + " -- " + sql.replace('\n', ' '));
                    }
                }
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    /** The statements of a file: SQL comment lines dropped, split at `;` before a blank line. */
    static List<String> statements(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : (text + "\n\n").split("\n", -1)) {
            if (line.trim().startsWith("--") && current.length() == 0) continue;
            if (line.isBlank()) {
                String sql = current.toString().trim();
                if (sql.endsWith(";")) {
                    out.add(sql.substring(0, sql.length() - 1));
                    current.setLength(0);
                    continue;
                }
            }
            current.append(line).append('\n');
        }
        String rest = current.toString().trim();
        if (!rest.isEmpty()) out.add(rest);
        return out;
    }
}
