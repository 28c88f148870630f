"""The program report for Work Train staff and funders: applications, decisions and loans by group."""
