// The README's Java snippet (pgJDBC over the Postgres port), run by
// serve::arrow::readme_snippets_run: java -cp postgresql.jar Charges.java PORT
import java.sql.*;

public class Charges {
    public static void main(String[] args) throws SQLException {
        String port = args.length > 0 ? args[0] : "5433";
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/stripe?sslmode=disable";
        try (Connection conn = DriverManager.getConnection(url, "u", "");
             PreparedStatement ps = conn.prepareStatement("SELECT currency, sum(amount) FROM charges WHERE status = ? GROUP BY 1 ORDER BY 1")) {
            ps.setString(1, "succeeded");
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) System.out.println(rs.getString(1) + " " + rs.getLong(2));
            }
        }
    }
}
