// Drives `stripe-sql serve` with pgJDBC for the serve tests:
// DatabaseMetaData.getTables/getColumns and a PreparedStatement with a parameter.
// usage: java -cp postgresql.jar JdbcCheck.java PORT EMAIL
// Prints `key=value` lines.
import java.sql.*;
import java.util.*;

public class JdbcCheck {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/stripe?sslmode=disable";
        try (Connection conn = DriverManager.getConnection(url, "stripe", "")) {
            DatabaseMetaData meta = conn.getMetaData();
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, null, "%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_SCHEM") + "." + rs.getString("TABLE_NAME"));
            }
            System.out.println("tables=" + String.join(",", tables));
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = meta.getColumns(null, null, "customers", "%")) {
                while (rs.next()) columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
            }
            System.out.println("columns=" + String.join(",", columns));
            try (PreparedStatement ps = conn.prepareStatement("SELECT id, email, created FROM customers WHERE email = ?")) {
                ps.setString(1, args[1]);
                int n = 0;
                String email = "";
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        n++;
                        email = rs.getString("email");
                        rs.getTimestamp("created");
                    }
                }
                System.out.println("prepared_rows=" + n);
                System.out.println("prepared_email=" + email);
            }
        }
    }
}
